"""The test SMTP server's handler (aiosmtpd): keeps every message in a Maildir, and refuses recipients at
refused.example with 550, so tests can see how O2X treats a permanent refusal."""
from aiosmtpd.handlers import Mailbox


class Handler(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@refused.example"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
