"""WhatsApp Business Cloud API: signed webhooks in, Graph API messages and templates out."""

from channels.whatsapp.channel import WhatsAppChannel, WhatsAppOptions

__all__ = ["WhatsAppChannel", "WhatsAppOptions"]
