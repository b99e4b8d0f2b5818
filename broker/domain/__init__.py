"""The case domain model: pure Python, no I/O, time always passed in.

Entry points:
- `opening.handle(case | None, command, context)`: OpenCase creates a case; any other command
  is applied to the case. `Case.handle(command, context)` applies one command to a case.
- `audience.audience(case, event)`, `audience.deliveries(case, event)` and
  `audience.applicant_may_be_told(case, event)`: need-to-know for each event.
- `views.view_for(case, force)`: what one force may see.
- `transitions`: the state machines as data (`docs/state-model.md` is generated from them).
"""
