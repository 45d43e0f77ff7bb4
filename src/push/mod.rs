//! Pushing images: the engine's push stream read line by line (`stream`), and the progress model every
//! push reports through (`progress`). The push jobs and the two strategies (engine and direct) build on
//! these.

pub mod progress;
pub mod stream;
