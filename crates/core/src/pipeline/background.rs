use std::str::FromStr;

/// What goes behind the subject: nothing (alpha) or a solid colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Background {
    #[default]
    Transparent,
    Color([u8; 3]),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("\"{0}\" is not a colour bgone knows. Use transparent, white, black, or a hex colour such as #ff8800.")]
pub struct BackgroundError(pub String);

impl Background {
    pub const WHITE: Self = Self::Color([255, 255, 255]);

    /// The colour to flatten onto where a format has no alpha (JPEG): white unless one was chosen.
    pub fn opaque_or_white(self) -> [u8; 3] {
        match self {
            Self::Transparent => [255, 255, 255],
            Self::Color(rgb) => rgb,
        }
    }
}

impl FromStr for Background {
    type Err = BackgroundError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let named = match text.trim().to_ascii_lowercase().as_str() {
            "transparent" | "none" => Some(Self::Transparent),
            "white" => Some(Self::Color([255, 255, 255])),
            "black" => Some(Self::Color([0, 0, 0])),
            "grey" | "gray" => Some(Self::Color([128, 128, 128])),
            "red" => Some(Self::Color([255, 0, 0])),
            "green" => Some(Self::Color([0, 128, 0])),
            "blue" => Some(Self::Color([0, 0, 255])),
            _ => None,
        };
        named.or_else(|| parse_hex(text.trim())).ok_or_else(|| BackgroundError(text.to_owned()))
    }
}

fn parse_hex(text: &str) -> Option<Background> {
    let hex = text.strip_prefix('#').unwrap_or(text);
    let digits: Vec<u8> = hex.chars().map(|c| c.to_digit(16).map(|d| d as u8)).collect::<Option<_>>()?;
    let rgb = match digits.as_slice() {
        [r, g, b] => [r * 17, g * 17, b * 17],
        [r1, r2, g1, g2, b1, b2] => [r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2],
        _ => return None,
    };
    Some(Background::Color(rgb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_hex() {
        assert_eq!("#ff8800".parse(), Ok(Background::Color([255, 136, 0])));
        assert_eq!("0F0".parse(), Ok(Background::Color([0, 255, 0])));
        assert_eq!(" White ".parse(), Ok(Background::WHITE));
        assert_eq!("transparent".parse(), Ok(Background::Transparent));
        assert!("#12345".parse::<Background>().is_err());
        assert!("mauve-ish".parse::<Background>().is_err());
    }
}
