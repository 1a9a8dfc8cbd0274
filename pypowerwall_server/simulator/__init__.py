"""Built-in Tesla Energy Gateway simulator that the real pypowerwall client talks to."""
