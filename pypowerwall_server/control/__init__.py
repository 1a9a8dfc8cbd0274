"""Control writes (docs/architecture.md, decision 11); no HTTP framework in here.

A request goes: values.parse_control / parse_combined (typed command or legacy error text)
-> auth.presented_token + TokenGuard.check (Bearer or form token, never the URL; failure
budgets per client and in total that never block the right token)
-> service.ControlService.write: writes.plan_write (reserve hold resolved, limits.check_command
per transport), writes.execute_write (operations.library_calls as one operation on the
gateway's worker, slow-tier refresh, readback), audit.AuditTrail entry
-> answers.* gives the status code and JSON body. current.control_state fills ControlState
from a Snapshot's typed Readings.
"""
