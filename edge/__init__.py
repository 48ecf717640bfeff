"""The edge gateway, the only public entry point: TLS, authentication, routing; no business."""
