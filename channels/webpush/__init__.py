"""Web Push: notices shown by residents' browsers (VAPID, aes128gcm), subscribed on the site."""

from channels.webpush.channel import WebPushChannel, WebPushOptions

__all__ = ["WebPushChannel", "WebPushOptions"]
