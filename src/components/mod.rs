//! The page's components, one per file.

mod drop_zone;
mod item_card;
mod status_bar;
mod toolbar;

pub use drop_zone::DropZone;
pub use item_card::ItemCard;
pub use status_bar::StatusBar;
pub use toolbar::Toolbar;
