//! Pushing images: the engine's push stream read line by line (`stream`), the push through the engine
//! (`engine`), and the progress model every push reports through (`progress`). Push jobs (queue,
//! cancel, retry) and the direct strategy build on these.

pub mod engine;
pub mod progress;
pub mod stream;
