"""The shops file as the notifier reads it: nearly all of it, in the model every service shares.

The model is the kit's, so a key no service knows stops the notifier at start-up as it stops the
others; the names stay importable from here for the notifier's own modules.
"""

from orderpulse_kit.shops import Messaging, QuietHours, Shop, SmsDiacritics, load_shops

__all__ = ["Messaging", "QuietHours", "Shop", "SmsDiacritics", "load_shops"]
