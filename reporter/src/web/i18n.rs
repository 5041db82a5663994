//! Every UI string in the three languages, Kazakh first.
//!
//! One table, one `match`: a message missing a translation does not compile, and a translator
//! finds every string in one file. Category titles and legal norms are not here — they are data
//! in the taxonomy (`rules/taxonomy.toml`), localized there.

use model::{CaseStatus, Route, Severity};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Kazakh — the first language and the default.
    #[default]
    Kk,
    /// Russian.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// All languages, in the order the switcher shows them.
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// ISO 639-1 code, as used in `?lang=`, the cookie and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// Parses a code (`kk`, `ru`, `en`, any case).
    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// A UI message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Msg {
    Cases,
    Case,
    Id,
    Category,
    Url,
    Host,
    Source,
    FirstSeen,
    LastSeen,
    Status,
    Severity,
    Screenshot,
    Yes,
    No,
    Apply,
    Any,
    NoCases,
    LegalNorm,
    DefaultRoute,
    Route,
    DecisionNote,
    DecidedBy,
    DecidedAt,
    Evidence,
    ScreenshotSha,
    DesktopView,
    MobileView,
    BodySha,
    CapturedAt,
    FinalUrl,
    Ip,
    HttpStatus,
    Protocol,
    WarcRecord,
    NoScreenshot,
    MatchedText,
    PageTitle,
    Fragments,
    RuleExplanation,
    Rule,
    Version,
    Title,
    Score,
    Expression,
    RuleNotLoaded,
    CurrentVersion,
    Confirm,
    Justification,
    Dismiss,
    Reason,
    Decision,
    AlreadyDecided,
    BackToList,
    Hits,
    NotFound,
    Error,
    Language,
    Forbidden,
    Conflict,
    Rechecks,
    ProposedMirror,
    Login,
    LoginFailed,
    UserName,
    Password,
    TotpCode,
    Logout,
    Notifications,
    Admin,
    Users,
    AddUser,
    Role,
    FullName,
    Position,
    Email,
    Mobile,
    Totp,
    LastActive,
    Disabled,
    Disable,
    Enable,
    Form1,
    ExportCsv,
    Inactive,
    InactiveIntro,
    Days,
    Audit,
    AuditOk,
    AuditBroken,
    TotpSecretOnce,
    Never,
    Action,
    Object,
    Detail,
    Actor,
    Time,
    Save,
    Assignee,
    AssignToMe,
    Assign,
    Unassigned,
    Comments,
    AddComment,
    NoComments,
    MergeInto,
    Merge,
    MergedInto,
    Related,
    NoRelated,
    Indicators,
    SharedIndicator,
    NearDuplicate,
    Age,
    InStatus,
    Overdue,
    Sort,
    SortNewest,
    SortOldest,
    SortSeverity,
    Mine,
    OverdueOnly,
    Notification,
    DraftNotification,
    Approve,
    DraftedBy,
    ApprovedBy,
    ContentHash,
    NotificationStatus,
    Receipts,
    Accepted,
    RejectedLine,
    NoNotifications,
    CasesForNotification,
    EvidenceBundle,
    Pdf,
    FourEyes,
    Edit,
}

impl Msg {
    /// The message in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let [kk, ru, en] = self.texts();
        match lang {
            Lang::Kk => kk,
            Lang::Ru => ru,
            Lang::En => en,
        }
    }

    fn texts(self) -> [&'static str; 3] {
        use Msg::*;
        match self {
            Cases => ["Істер", "Дела", "Cases"],
            Case => ["Іс", "Дело", "Case"],
            Id => ["№", "№", "ID"],
            Category => ["Санат", "Категория", "Category"],
            Url => ["URL", "URL", "URL"],
            Host => ["Домен", "Домен", "Host"],
            Source => ["Дереккөз", "Источник", "Source"],
            FirstSeen => ["Алғаш анықталды", "Впервые обнаружено", "First seen"],
            LastSeen => ["Соңғы рет анықталды", "Последнее обнаружение", "Last seen"],
            Status => ["Мәртебе", "Статус", "Status"],
            Severity => ["Маңыздылық", "Важность", "Severity"],
            Screenshot => ["Скриншот", "Скриншот", "Screenshot"],
            Yes => ["Иә", "Да", "Yes"],
            No => ["Жоқ", "Нет", "No"],
            Apply => ["Сүзу", "Применить", "Apply"],
            Any => ["Барлығы", "Все", "Any"],
            NoCases => ["Істер табылмады", "Дела не найдены", "No cases found"],
            LegalNorm => [
                "ҚР заңнамасының нормасы",
                "Норма законодательства РК",
                "Legal norm (RK)",
            ],
            DefaultRoute => ["Ұсынылған бағыт", "Рекомендуемый маршрут", "Default route"],
            Route => ["Бағыт", "Маршрут", "Route"],
            DecisionNote => [
                "Негіздеме / себеп",
                "Обоснование / причина",
                "Justification / reason",
            ],
            DecidedBy => ["Шешім қабылдаған", "Решение принял", "Decided by"],
            DecidedAt => [
                "Шешім уақыты (UTC)",
                "Время решения (UTC)",
                "Decided at (UTC)",
            ],
            Evidence => ["Дәлелдер", "Доказательства", "Evidence"],
            ScreenshotSha => [
                "Скриншоттың SHA-256",
                "SHA-256 скриншота",
                "Screenshot SHA-256",
            ],
            DesktopView => ["Компьютерде", "На компьютере", "Desktop"],
            MobileView => ["Телефонда", "На телефоне", "Mobile"],
            BodySha => [
                "Жауап денесінің SHA-256",
                "SHA-256 тела ответа",
                "Body SHA-256",
            ],
            CapturedAt => [
                "Тіркелген уақыты (UTC)",
                "Время фиксации (UTC)",
                "Captured at (UTC)",
            ],
            FinalUrl => ["Соңғы URL", "Итоговый URL", "Final URL"],
            Ip => ["IP мекенжайы", "IP-адрес", "IP address"],
            HttpStatus => ["HTTP мәртебесі", "HTTP-статус", "HTTP status"],
            Protocol => ["Хаттама", "Протокол", "Protocol"],
            WarcRecord => ["WARC жазбасы", "Запись WARC", "WARC record"],
            NoScreenshot => [
                "Скриншот әлі түсірілмеген",
                "Скриншот ещё не снят",
                "No screenshot yet",
            ],
            MatchedText => ["Сәйкес келген мәтін", "Совпавший текст", "Matched text"],
            PageTitle => ["Бет тақырыбы", "Заголовок страницы", "Page title"],
            Fragments => [
                "Мәтін ұзын: тек сәйкестіктер маңы көрсетілген",
                "Текст длинный: показаны только фрагменты вокруг совпадений",
                "Long text: only the context around matches is shown",
            ],
            RuleExplanation => [
                "Ережелер түсіндірмесі",
                "Объяснение правил",
                "Rule explanation",
            ],
            Rule => ["Ереже", "Правило", "Rule"],
            Version => ["Нұсқа", "Версия", "Version"],
            Title => ["Атауы", "Название", "Title"],
            Score => ["Ұпай", "Оценка", "Score"],
            Expression => ["Өрнек", "Выражение", "Expression"],
            RuleNotLoaded => [
                "Ереже қазір жүктелмеген",
                "Правило сейчас не загружено",
                "Rule is not loaded now",
            ],
            CurrentVersion => ["ағымдағы нұсқа", "текущая версия", "current version"],
            Confirm => ["Растау", "Подтвердить", "Confirm"],
            Justification => ["Негіздеме", "Обоснование", "Justification"],
            Dismiss => [
                "Жалған деп жабу",
                "Отклонить как ложное",
                "Dismiss as false positive",
            ],
            Reason => ["Себебі", "Причина", "Reason"],
            Decision => ["Шешім", "Решение", "Decision"],
            AlreadyDecided => [
                "Бұл іс бойынша шешім қабылданған",
                "По этому делу решение уже принято",
                "This case has been decided",
            ],
            BackToList => ["← Істер тізімі", "← Список дел", "← Case list"],
            Hits => ["Сәйкестіктер", "Срабатывания", "Hits"],
            NotFound => ["Табылмады", "Не найдено", "Not found"],
            Error => ["Қате", "Ошибка", "Error"],
            Language => ["Тіл", "Язык", "Language"],
            Forbidden => [
                "Рұқсат жоқ: бұл әрекет сіздің рөліңізге берілмеген",
                "Доступ запрещён: это действие не разрешено вашей роли",
                "Forbidden: your role may not do this",
            ],
            Conflict => [
                "Әрекет істің қазіргі күйінде мүмкін емес",
                "Действие невозможно в текущем состоянии",
                "Not possible in the current state",
            ],
            Rechecks => [
                "Жіберілгеннен кейінгі тексерулер",
                "Повторные проверки после отправки",
                "Re-checks after sending",
            ],
            ProposedMirror => [
                "Ұсынылған айна (жаңа ресурс ретінде тексеру)",
                "Предполагаемое зеркало (проверить как новый ресурс)",
                "Proposed mirror (check as a new resource)",
            ],
            Login => ["Кіру", "Вход", "Sign in"],
            LoginFailed => [
                "Пайдаланушы аты, құпиясөз немесе код қате",
                "Неверное имя, пароль или код",
                "Wrong name, password or code",
            ],
            UserName => ["Пайдаланушы аты", "Имя пользователя", "User name"],
            Password => ["Құпиясөз", "Пароль", "Password"],
            TotpCode => [
                "Бір реттік код (бекітушілер мен әкімшілер үшін)",
                "Одноразовый код (для утверждающих и администраторов)",
                "One-time code (approvers and admins)",
            ],
            Logout => ["Шығу", "Выйти", "Sign out"],
            Notifications => ["Хабарламалар", "Уведомления", "Notifications"],
            Admin => ["Әкімшілік", "Администрирование", "Administration"],
            Users => ["Пайдаланушылар", "Пользователи", "Users"],
            AddUser => ["Пайдаланушы қосу", "Добавить пользователя", "Add user"],
            Role => ["Рөлі", "Роль", "Role"],
            FullName => [
                "Тегі, аты, әкесінің аты (ол болған жағдайда)",
                "Фамилия, имя, отчество (при его наличии)",
                "Full name",
            ],
            Position => ["Лауазымы", "Должность", "Position"],
            Email => [
                "Жұмыс электрондық поштасы",
                "Рабочая электронная почта",
                "Work e-mail",
            ],
            Mobile => ["Ұялы телефон", "Мобильный телефон", "Mobile phone"],
            Totp => [
                "Екінші фактор (TOTP)",
                "Второй фактор (TOTP)",
                "Second factor (TOTP)",
            ],
            LastActive => ["Соңғы белсенділік", "Последняя активность", "Last active"],
            Disabled => ["Бұғатталған", "Заблокирована", "Disabled"],
            Disable => ["Бұғаттау", "Заблокировать", "Disable"],
            Enable => ["Бұғаттан шығару", "Разблокировать", "Enable"],
            Form1 => [
                "1-нысан: уәкілетті қызметкерлер тізімі",
                "Форма 1: список уполномоченных сотрудников",
                "Form 1: authorized staff list",
            ],
            ExportCsv => ["CSV жүктеп алу", "Выгрузить CSV", "Export CSV"],
            Inactive => [
                "Белсенді емес есептік жазбалар",
                "Неактивные учётные записи",
                "Inactive accounts",
            ],
            InactiveIntro => [
                "Көрсетілген кезеңде белсенділік белгілері жоқ және ақпараттық жүйені қолданбайтын пайдаланушылар (жарты жылда бір рет қаралады)",
                "Пользователи без признаков активности, не использующие информационную систему за указанный период (пересматривается раз в полгода)",
                "Users with no sign of activity in the period (reviewed every half-year)",
            ],
            Days => ["Күн", "Дней", "Days"],
            Audit => ["Аудит журналы", "Журнал аудита", "Audit log"],
            AuditOk => ["Тізбек тұтас", "Цепочка цела", "Chain intact"],
            AuditBroken => ["Тізбек бұзылған", "Цепочка нарушена", "Chain broken"],
            TotpSecretOnce => [
                "TOTP құпия кілті (бір рет көрсетіледі, аутентификатор қолданбасына енгізіңіз)",
                "Секрет TOTP (показывается один раз, внесите в приложение-аутентификатор)",
                "TOTP secret (shown once; enter it in an authenticator app)",
            ],
            Never => ["Ешқашан", "Никогда", "Never"],
            Action => ["Әрекет", "Действие", "Action"],
            Object => ["Нысан", "Объект", "Object"],
            Detail => ["Толығырақ", "Подробности", "Detail"],
            Actor => ["Орындаушы", "Исполнитель", "Actor"],
            Time => ["Уақыты (UTC)", "Время (UTC)", "Time (UTC)"],
            Save => ["Сақтау", "Сохранить", "Save"],
            Assignee => ["Орындаушы", "Ответственный", "Assignee"],
            AssignToMe => ["Өзіме алу", "Взять себе", "Assign to me"],
            Assign => ["Тағайындау", "Назначить", "Assign"],
            Unassigned => ["Тағайындалмаған", "Не назначено", "Unassigned"],
            Comments => ["Пікірлер", "Комментарии", "Comments"],
            AddComment => ["Пікір қосу", "Добавить комментарий", "Add comment"],
            NoComments => ["Пікір жоқ", "Комментариев нет", "No comments"],
            MergeInto => [
                "Қайталанатын іс ретінде біріктіру: негізгі іс №",
                "Объединить как дубликат в дело №",
                "Merge as duplicate into case #",
            ],
            Merge => ["Біріктіру", "Объединить", "Merge"],
            MergedInto => ["Біріктірілген іс", "Объединено в дело", "Merged into"],
            Related => ["Байланысты істер", "Связанные дела", "Related cases"],
            NoRelated => [
                "Байланысты істер жоқ",
                "Связанных дел нет",
                "No related cases",
            ],
            Indicators => ["Индикаторлар", "Индикаторы", "Indicators"],
            SharedIndicator => ["Ортақ индикатор", "Общий индикатор", "Shared indicator"],
            NearDuplicate => [
                "Ұқсас бет (айна)",
                "Почти дубликат (зеркало)",
                "Near-duplicate page (mirror)",
            ],
            Age => [
                "Анықталғаннан бері",
                "С момента обнаружения",
                "Since detection",
            ],
            InStatus => ["Осы мәртебеде", "В текущем статусе", "In this status"],
            Overdue => ["Мерзімі өтті", "Просрочено", "Overdue"],
            Sort => ["Сұрыптау", "Сортировка", "Sort"],
            SortNewest => [
                "Соңғы белсенділік",
                "Последняя активность",
                "Latest activity",
            ],
            SortOldest => ["Ең ескі", "Самые старые", "Oldest first"],
            SortSeverity => ["Маңыздылығы бойынша", "По важности", "By severity"],
            Mine => [
                "Маған тағайындалғандар",
                "Назначенные мне",
                "Assigned to me",
            ],
            OverdueOnly => [
                "Тек мерзімі өткендер",
                "Только просроченные",
                "Overdue only",
            ],
            Notification => ["Хабарлама", "Уведомление", "Notification"],
            DraftNotification => [
                "2-нысан бойынша хабарлама дайындау",
                "Подготовить уведомление по Форме 2",
                "Draft a Form 2 notification",
            ],
            Approve => ["Мақұлдау", "Утвердить", "Approve"],
            DraftedBy => ["Дайындаған", "Подготовил", "Drafted by"],
            ApprovedBy => ["Мақұлдаған", "Утвердил", "Approved by"],
            ContentHash => ["Мазмұнның SHA-256", "SHA-256 содержания", "Content SHA-256"],
            NotificationStatus => [
                "Хабарлама мәртебесі",
                "Статус уведомления",
                "Notification status",
            ],
            Receipts => [
                "Уәкілетті органның жауаптары",
                "Ответы уполномоченного органа",
                "Receipts from the authority",
            ],
            Accepted => ["Қабылданды", "Принято", "Accepted"],
            RejectedLine => ["Қабылданбады", "Отклонено", "Rejected"],
            NoNotifications => ["Хабарламалар жоқ", "Уведомлений нет", "No notifications"],
            CasesForNotification => [
                "Хабарламаға енгізілетін істер (бұғаттау бағыты, расталған)",
                "Дела для уведомления (маршрут блокировки, подтверждены)",
                "Cases for the notification (blocking route, confirmed)",
            ],
            EvidenceBundle => [
                "Дәлелдер пакеті (zip)",
                "Пакет доказательств (zip)",
                "Evidence bundle (zip)",
            ],
            Pdf => ["Құжат", "Документ", "Document"],
            FourEyes => [
                "Екі адам қағидасы: хабарламаны дайындаған адам оны мақұлдай алмайды",
                "Принцип четырёх глаз: подготовивший уведомление не может его утвердить",
                "Four eyes: whoever drafted a notification cannot approve it",
            ],
            Edit => ["Өзгерту", "Изменить", "Edit"],
        }
    }
}

/// Display name of a case status.
pub fn status(s: CaseStatus, lang: Lang) -> &'static str {
    let [kk, ru, en] = match s {
        CaseStatus::New => ["Жаңа", "Новое", "New"],
        CaseStatus::InReview => ["Қаралуда", "На рассмотрении", "In review"],
        CaseStatus::Confirmed => ["Расталды", "Подтверждено", "Confirmed"],
        CaseStatus::NotificationDrafted => [
            "Хабарлама дайындалды",
            "Уведомление подготовлено",
            "Notification drafted",
        ],
        CaseStatus::Approved => ["Мақұлданды", "Одобрено", "Approved"],
        CaseStatus::Sent => ["Жіберілді", "Отправлено", "Sent"],
        CaseStatus::Acknowledged => ["Қабылданды", "Принято органом", "Acknowledged"],
        CaseStatus::Rejected => ["Қайтарылды", "Отклонено органом", "Rejected"],
        CaseStatus::Dismissed => ["Жалған деп жабылды", "Закрыто как ложное", "Dismissed"],
    };
    pick([kk, ru, en], lang)
}

/// Display name of a re-check outcome.
pub fn outcome(o: crate::recheck::Outcome, lang: Lang) -> &'static str {
    use crate::recheck::Outcome;
    let texts = match o {
        Outcome::Reachable => [
            "Қолжетімді, өзгеріссіз",
            "Доступен, без изменений",
            "Reachable, unchanged",
        ],
        Outcome::Changed => [
            "Қолжетімді, өзгерген",
            "Доступен, изменён",
            "Reachable, changed",
        ],
        Outcome::Blocked => ["Бұғатталған", "Заблокирован", "Blocked"],
        Outcome::Unreachable => ["Қолжетімсіз", "Недоступен", "Unreachable"],
        Outcome::Moved => [
            "Басқа доменге көшті",
            "Перенесён на другой домен",
            "Moved to another host",
        ],
    };
    pick(texts, lang)
}

/// Display name of a user role.
pub fn role(r: crate::auth::Role, lang: Lang) -> &'static str {
    use crate::auth::Role;
    let texts = match r {
        Role::Analyst => ["Талдаушы", "Аналитик", "Analyst"],
        Role::RuleAuthor => ["Ереже авторы", "Автор правил", "Rule author"],
        Role::Approver => ["Бекітуші", "Утверждающий", "Approver"],
        Role::Admin => ["Әкімші", "Администратор", "Administrator"],
    };
    pick(texts, lang)
}

/// Display name of a legal route.
pub fn route(r: Route, lang: Lang) -> &'static str {
    let texts = match r {
        Route::Criminal => [
            "Қылмыстық іс жүргізу",
            "Уголовно-процессуальный",
            "Criminal",
        ],
        Route::Administrative => ["Әкімшілік", "Административный", "Administrative"],
        Route::Blocking => [
            "Бұғаттау (2-нысан)",
            "Блокировка (Форма 2)",
            "Blocking (Form 2)",
        ],
    };
    pick(texts, lang)
}

/// Display name of a severity.
pub fn severity(s: Severity, lang: Lang) -> &'static str {
    let texts = match s {
        Severity::Low => ["Төмен", "Низкая", "Low"],
        Severity::Medium => ["Орташа", "Средняя", "Medium"],
        Severity::High => ["Жоғары", "Высокая", "High"],
    };
    pick(texts, lang)
}

/// Display name of a source kind (`web`, `telegram`); unknown kinds are shown as they are.
pub fn source(kind: &str, lang: Lang) -> &str {
    match kind {
        "web" => pick(["Веб-сайт", "Веб-сайт", "Website"], lang),
        "telegram" => "Telegram",
        other => other,
    }
}

fn pick(texts: [&'static str; 3], lang: Lang) -> &'static str {
    match lang {
        Lang::Kk => texts[0],
        Lang::Ru => texts[1],
        Lang::En => texts[2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_codes_round_trip() {
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
        }
        assert_eq!(Lang::parse(" RU "), Some(Lang::Ru));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::default(), Lang::Kk);
    }

    #[test]
    fn every_label_is_translated() {
        for l in Lang::ALL {
            for s in CaseStatus::ALL {
                assert!(!status(s, l).is_empty());
            }
            for r in Route::ALL {
                assert!(!route(r, l).is_empty());
            }
            assert_ne!(Msg::Cases.get(l), "");
        }
        assert_eq!(Msg::Confirm.get(Lang::Kk), "Растау");
        assert_eq!(status(CaseStatus::InReview, Lang::Ru), "На рассмотрении");
        assert_eq!(source("web", Lang::En), "Website");
    }
}
