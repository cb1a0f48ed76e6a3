"""The shelf's rules: who may change it, the services that add and remove images, the audit."""
