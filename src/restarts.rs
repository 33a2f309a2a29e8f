//! Whether to start another worker when one dies. A worker that dies in the middle of an image
//! takes only that image with it, so restarting always makes progress. One that dies before it is
//! ready (a script that cannot load, a device without the memory for the model) or as it takes an
//! image, before starting it (the photo's bytes alone do not fit), would be restarted forever: the
//! second such crash in a row stops the page, or gives up that image.

/// Crashes since the last sign of progress.
#[derive(Clone, Copy, Default, Debug)]
pub struct CrashRecord {
    /// Workers that died before they were ready, since one last was.
    before_ready: u32,
    /// Ready workers that died with no image started, since an image last finished.
    taking_an_image: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AfterCrash {
    /// The image being processed fails; a new worker takes the rest.
    FailCurrent,
    /// Start a new worker and give it every unfinished image.
    Restart,
    /// The oldest unfinished image fails (two workers died taking it); a new worker takes the rest.
    GiveUpOldest,
    /// Two workers in a row died before they were ready: start no more.
    Stop,
}

impl CrashRecord {
    /// What to do after a crash, given whether the worker was ready and whether it was processing
    /// an image.
    pub fn after_crash(&mut self, ready: bool, processing: bool) -> AfterCrash {
        if processing {
            self.taking_an_image = 0;
            return AfterCrash::FailCurrent;
        }
        if !ready {
            self.before_ready += 1;
            return if self.before_ready >= 2 { AfterCrash::Stop } else { AfterCrash::Restart };
        }
        self.taking_an_image += 1;
        if self.taking_an_image >= 2 {
            self.taking_an_image = 0;
            return AfterCrash::GiveUpOldest;
        }
        AfterCrash::Restart
    }

    /// A worker is ready.
    pub fn ready(&mut self) {
        self.before_ready = 0;
    }

    /// An image finished (cut out or failed with a message).
    pub fn image_finished(&mut self) {
        self.taking_an_image = 0;
    }
}
