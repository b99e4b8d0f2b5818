"""The case domain model: pure Python, no I/O, time always passed in.

Entry points:
- `handling.handle(case | None, command, context)`: OpenCase creates a case; any other
  command is applied to the case. `handling.apply_command(case, command, context)` applies
  one command to a case, all or nothing.
- `audience.audience(case, event)`, `audience.deliveries(case, event)` and
  `audience.applicant_may_be_told(case, event)`: need-to-know for each event.
- `views.view_for(case, force)`: what one force may see.
- `transitions`: the state machines as data (`docs/state-model.md` is generated from them).
"""
