//! Palisade's view of a live cluster.
