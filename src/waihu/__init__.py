"""waihu: open-source outbound contact-center platform."""

__version__ = "0.1.0"
