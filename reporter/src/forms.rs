//! The official texts of Form 1 and Form 2 (appendices 1 and 2 of the Rules of interaction of
//! state bodies on compliance with the legislation in telecommunication networks, Order 409).
//!
//! The Kazakh wording is reproduced exactly as published; the Russian is a faithful translation
//! of it. They are constants, not UI strings: a notification is a legal document, and its wording
//! changes only when the order does. English has no official version — English-language UIs show
//! the Russian form.

/// One official form text in Kazakh and Russian.
#[derive(Debug, Clone, Copy)]
pub struct FormText {
    /// Kazakh (the published original).
    pub kk: &'static str,
    /// Russian.
    pub ru: &'static str,
}

impl FormText {
    /// The text in `lang` (`kk`; anything else gets Russian).
    pub fn get(&self, lang: &str) -> &'static str {
        if lang == "kk" { self.kk } else { self.ru }
    }
}

/// "Форма" above the form.
pub const FORM: FormText = FormText {
    kk: "Нысан",
    ru: "Форма",
};

/// Caption under the addressee line.
pub const AUTHORITY_CAPTION: FormText = FormText {
    kk: "(Уәкілетті органның атауы)",
    ru: "(наименование уполномоченного органа)",
};

/// The addressee (the mass-media authority that restricts access, art. 41-1 of the Law on
/// Communications).
pub const AUTHORITY: FormText = FormText {
    kk: "Қазақстан Республикасы Мәдениет және ақпарат министрлігі",
    ru: "Министерство культуры и информации Республики Казахстан",
};

/// The document's title.
pub const NOTIFICATION: FormText = FormText {
    kk: "Хабарлама",
    ru: "Уведомление",
};

/// Form 1: opening paragraph.
pub const FORM1_INTRO: FormText = FormText {
    kk: "\"Байланыс туралы\" Қазақстан Республикасы Заңының 41-1-бабының 1-1-тармағына сәйкес бекітілген Телекоммуникациялар желілерінде Қазақстан Республикасы заңнамасының талаптарын сақтау мәселелері бойынша мемлекеттік органдардың өзара іс-қимыл жасасу қағидаларына сәйкес, масс-медиа, телекоммуникация желілерінде немесе онлайн-платформаларда таралатын құқыққа қайшы контентті анықтау және есепке алу және осындай контенті бар интернет-ресурстар мен сілтемелерді ақпараттық жүйеге енгізу құзыретіне кіретін қызметкерлер туралы мәліметтерді жолдаймыз.",
    ru: "В соответствии с Правилами взаимодействия государственных органов по вопросам соблюдения требований законодательства Республики Казахстан в сетях телекоммуникаций, утвержденными согласно пункту 1-1 статьи 41-1 Закона Республики Казахстан \"О связи\", направляем сведения о сотрудниках, в компетенцию которых входит выявление и учет противоправного контента, распространяемого в масс-медиа, сетях телекоммуникаций или онлайн-платформах, и внесение в информационную систему интернет-ресурсов и ссылок, содержащих такой контент.",
};

/// Form 1: the table's columns.
pub const FORM1_COLUMNS: [FormText; 4] = [
    FormText {
        kk: "№ р/с",
        ru: "№ п/п",
    },
    FormText {
        kk: "Тегі, аты, әкесінің аты (ол болған жағдайда)",
        ru: "Фамилия, имя, отчество (при его наличии)",
    },
    FormText {
        kk: "Жұмыс электрондық поштасы",
        ru: "Рабочая электронная почта",
    },
    FormText {
        kk: "Ұялы телефон",
        ru: "Мобильный телефон",
    },
];

/// Form 1: signatory line.
pub const FORM1_SIGNATORY: FormText = FormText {
    kk: "Уәкілетті лауазымды адам",
    ru: "Уполномоченное должностное лицо",
};

/// Caption under the signature line (Form 1).
pub const FORM1_SIGNATURE_CAPTION: FormText = FormText {
    kk: "лауазым (қолы) (тегі, аты, әкесінің аты (ол болған жағдайда)",
    ru: "должность (подпись) (фамилия, имя, отчество (при его наличии))",
};

/// Form 2: opening paragraph.
pub const FORM2_INTRO: FormText = FormText {
    kk: "\"Байланыс туралы\" Қазақстан Республикасы Заңының 41-1-бабының 1-1-тармағына сәйкес бекітілген Телекоммуникациялар желілерінде Қазақстан Республикасы заңнамасының талаптарын сақтау мәселелері бойынша мемлекеттік органдардың өзара іс-қимыл жасасу қағидаларына сәйкес, Қазақстан Республикасының заңдарымен және (немесе) заңды күшіне енген сот шешімдерімен таратуға тыйым салынған ақпарат туралы мәліметтерді жолдаймыз.",
    ru: "В соответствии с Правилами взаимодействия государственных органов по вопросам соблюдения требований законодательства Республики Казахстан в сетях телекоммуникаций, утвержденными согласно пункту 1-1 статьи 41-1 Закона Республики Казахстан \"О связи\", направляем сведения об информации, распространение которой запрещено законами Республики Казахстан и (или) вступившими в законную силу решениями суда.",
};

/// Form 2, item 1.
pub const FORM2_VIOLATION: FormText = FormText {
    kk: "1. Бұзушылық түрі",
    ru: "1. Вид нарушения",
};

/// Form 2, item 2.
pub const FORM2_NORM: FormText = FormText {
    kk: "2. Қазақстан Республикасы заңнамалық актісінің нормасы",
    ru: "2. Норма законодательного акта Республики Казахстан",
};

/// Form 2, item 3.
pub const FORM2_FACTS: FormText = FormText {
    kk: "3. Қазақстан Республикасының заңнамасын бұзудың анықталған фактілерінің тізбесі (деректерді беру желісінде мекенжайлар, (IP-мекенжай) және (немесе) домендік атау және (немесе) интернет-ресурстың және (немесе) оның интернет-парағының сәйкестендіргіші көрсетіледі), деректерді беру желісінің интернет-ресурсы пайдаланатын хаттаманың түрі, сәйкестендіру, абоненттік құрылғының кодтары (Құрылғының MAC мекенжайы, IMEI-байланыс құралының коды):",
    ru: "3. Перечень выявленных фактов нарушения законодательства Республики Казахстан (указываются адреса в сети передачи данных (IP-адрес) и (или) доменное имя, и (или) идентификатор интернет-ресурса и (или) его интернет-страницы), вид протокола, используемого интернет-ресурсом сети передачи данных, идентификационные коды абонентского устройства (MAC-адрес устройства, IMEI-код средства связи):",
};

/// Form 2: the certification sentence.
pub const FORM2_CERTIFY: FormText = FormText {
    kk: "Осы хабарламада көрсетілген мәліметтердің заңдылығы мен негізділігін растаймын.",
    ru: "Подтверждаю законность и обоснованность сведений, указанных в настоящем уведомлении.",
};

/// Form 2: signatory line.
pub const FORM2_SIGNATORY: FormText = FormText {
    kk: "Уәкілетті лауазымды тұлға",
    ru: "Уполномоченное должностное лицо",
};

/// Caption under the signature line (Form 2).
pub const FORM2_SIGNATURE_CAPTION: FormText = FormText {
    kk: "лауазымы (қолы) (тегі, аты, әкесінің аты (ол болған жағдайда)",
    ru: "должность (подпись) (фамилия, имя, отчество (при его наличии))",
};

/// Form 2: the closing note.
pub const FORM2_NOTE: FormText = FormText {
    kk: "Ескертпе: жолдардың саны хабарламаға енгізілетін Қазақстан Республикасының заңнамасын бұзудың анықталған фактілерінің санына байланысты болады.",
    ru: "Примечание: количество строк зависит от количества выявленных фактов нарушения законодательства Республики Казахстан, включаемых в уведомление.",
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The Kazakh texts are the published ones: spot-check them against the order's wording.
    #[test]
    fn kazakh_wording_is_the_published_one() {
        assert!(FORM2_INTRO.kk.ends_with("мәліметтерді жолдаймыз."));
        assert!(FORM2_INTRO.kk.contains("41-1-бабының 1-1-тармағына"));
        assert_eq!(FORM2_VIOLATION.get("kk"), "1. Бұзушылық түрі");
        assert_eq!(FORM2_CERTIFY.get("en"), FORM2_CERTIFY.ru);
        assert!(FORM2_FACTS.kk.contains("IMEI-байланыс құралының коды"));
        assert_eq!(FORM1_COLUMNS[0].kk, "№ р/с");
    }
}
