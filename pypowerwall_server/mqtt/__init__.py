"""MQTT publishing with Home Assistant device discovery (DESIGN.md data flow: hub → mqtt/).

- options.py: the MQTT settings as one value (off unless a broker host is set).
- devices.py: which devices there are (gateways, their battery units, the site total), their
  topics and their state payloads, from the metrics table (metrics.py); pure.
- discovery.py: one retained Home Assistant device-discovery config per device; pure.
- publisher.py: the connection (aiomqtt): reconnects with backoff, republishes on connect
  and when Home Assistant announces itself, newest state wins, never blocks polling.

Controls over MQTT (reserve `number`, mode/export rule `select`, grid charging `switch`,
reserve hold `button`) are not here yet: they belong to the control layer (control/) with
its validation, limits and audit. They plug in as (1) `config`-category components with a
`command_topic` added to the gateway device's `cmps` in discovery.py, (2) a subscription to
`<prefix>/gateway/+/set/+` in publisher.py's `_listen`, handing each command to the control
layer and publishing the read-back state it answers with.
"""
