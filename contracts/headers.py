"""NATS header names on what the hub publishes, shared by the hub and ForceClient.

Headers are routing and audit hints only: what a force acts on is the signed envelope and,
for delivery flags, the hub-signed delivery note (`crossforce.contracts.delivery_note`).
"""

from __future__ import annotations

from typing import Final

# JetStream's own: the publish dedupe key, and the scheduled-message controls.
MSG_ID: Final = "Nats-Msg-Id"
SCHEDULE: Final = "Nats-Schedule"
SCHEDULE_TARGET: Final = "Nats-Schedule-Target"
ROLLUP: Final = "Nats-Rollup"

# On every delivery, case-log copy and receipt.
TYPE: Final = "Crossforce-Type"
CASE: Final = "Crossforce-Case"
# The roles a hub-originated notice is addressed to the force in (escalation ladder).
AUDIENCE: Final = "Crossforce-Audience"
# Delivery flags: plain copies of what the delivery note signs.
DELIVERY_NOTE: Final = "Crossforce-Delivery-Note"
PRIORITY: Final = "Crossforce-Priority"
APPLICANT_CHANNEL: Final = "Crossforce-Applicant-Channel"
TASK: Final = "Crossforce-Task"
# On receipts.
IN_REPLY_TO: Final = "Crossforce-In-Reply-To"
DUPLICATE_OF: Final = "Crossforce-Duplicate-Of"
# On dead letters.
REASON: Final = "Crossforce-Reason"
DETAIL: Final = "Crossforce-Detail"
ARRIVAL_SUBJECT: Final = "Crossforce-Arrival-Subject"
INBOUND_SEQUENCE: Final = "Crossforce-Inbound-Sequence"
REJECTED_AT: Final = "Crossforce-Rejected-At"
