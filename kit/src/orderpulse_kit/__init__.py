"""The runtime every orderpulse service runs on."""
