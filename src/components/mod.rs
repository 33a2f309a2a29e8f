//! The page's components, one per file.

mod drop_zone;
mod item_card;
mod offline_panel;
mod privacy_panel;
mod status_bar;
mod toolbar;
mod update_banner;

pub use drop_zone::DropZone;
pub use item_card::ItemCard;
pub use offline_panel::OfflinePanel;
pub use privacy_panel::PrivacyPanel;
pub use status_bar::StatusBar;
pub use toolbar::Toolbar;
pub use update_banner::UpdateBanner;
