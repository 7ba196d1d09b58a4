"""An AITBC runner plugin: the `wordcount` job type."""
