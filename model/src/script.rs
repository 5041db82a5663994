//! Facts about the writing systems of the monitored text that more than one stage needs: the
//! crawler tags each capture's language, the classifier detects it per field, and both decide
//! Kazakh by the same letters.

/// Kazakh Cyrillic letters absent from Russian (both cases): ә ғ қ ң ө ұ ү һ і.
///
/// A `match` rather than a search in a string of them: it runs for every character of every
/// page, and the string search was a third of the crawler's language tagging.
pub fn is_kazakh_letter(c: char) -> bool {
    matches!(
        c,
        'ә' | 'ғ'
            | 'қ'
            | 'ң'
            | 'ө'
            | 'ұ'
            | 'ү'
            | 'һ'
            | 'і'
            | 'Ә'
            | 'Ғ'
            | 'Қ'
            | 'Ң'
            | 'Ө'
            | 'Ұ'
            | 'Ү'
            | 'Һ'
            | 'І'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kazakh_letters_and_not_russian_ones() {
        assert_eq!(
            "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
                .chars()
                .filter(|c| is_kazakh_letter(*c))
                .count(),
            18
        );
        assert!(
            !"абвгдеёжзийклмнопрстуфхцчшщъыьэюяiI"
                .chars()
                .any(is_kazakh_letter)
        );
    }
}
