"""Setup as code: platform.yaml → plan → apply, and export back to YAML."""
