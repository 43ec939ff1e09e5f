"""The install pipeline of one service, driven by its profile.

``phases`` holds the maintainer script phases and ``main()``, what a
package's scripts call; ``seeding`` reads the current config files into
answers; ``plans`` turns answers into checked plans (pure); ``apply``
carries the plans out.
"""

from .phases import main

__all__ = ["main"]
