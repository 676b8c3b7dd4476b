"""Real-time plumbing, shared by every app and importing none of them.

* ``groups``   — channel-layer group names, built from ids only;
* ``events``   — every channel-layer event, declared once: its name, its typed
  fields, its audience and the wire frame it becomes;
* ``publish``  — the only way an event leaves a service: on commit, in order,
  through the process's event loop (the only ``group_send``);
* ``hub``      — per-process fan-out: one subscription per group per process,
  each frame encoded once and written to every local socket;
* ``batching`` — group commit for a circle's sends;
* ``protocol`` — the wire format: the only module that parses a client frame
  or builds a server frame (mirrored by docs/protocol.md).

Only this package touches the channel layer (import-linter checks it).
"""
