"""The three planning analyses. Each module is pure: frames in, frames out."""
