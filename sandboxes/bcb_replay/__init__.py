"""A local stand-in for the BCB APIs: recorded (and clearly labelled synthetic) data in the live formats."""
