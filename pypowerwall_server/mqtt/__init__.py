"""MQTT publishing with Home Assistant device discovery (docs/architecture.md, data flow).

- options.py: the MQTT settings as one value (off unless a broker host is set).
- devices.py: which devices there are (gateways, their battery units, the site total), their
  topics and their state payloads, from the metrics table (metrics.py); pure.
- discovery.py: one retained Home Assistant device-discovery config per device; pure.
- publisher.py: the connection (aiomqtt): reconnects with backoff, republishes on connect
  and when Home Assistant announces itself, newest state wins, never blocks polling.
- controls.py: the controls offered over MQTT (reserve `number`, mode/export rule `select`,
  grid charging `switch`, reserve hold `button`), their `config` components and payloads; pure.
- commands.py: commands from `<prefix>/gateway/+/set/+` handed to the control layer (control/:
  validation, limits, audit), newest per entity wins; each answered with the read-back state.
- readme.py: docs/mqtt.md's listing of the entities, generated from the discovery configs.
"""
