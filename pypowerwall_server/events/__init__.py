"""Events and notifications (docs/notifications.md): conditions decided once from the
hub's snapshots and control results, fanned out to Apprise, MQTT, the API, a WebSocket and
the console. Nothing heavy is imported here: settings import events.model."""
