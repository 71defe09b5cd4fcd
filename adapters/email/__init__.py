"""E-mail as a platform: SMTP out through the outbox, RFC 5322 in by ``mail-in`` or IMAP."""
