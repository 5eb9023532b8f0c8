"""The tributary.v1 messages and gRPC stubs, generated from proto/ by
clients/python/generate.sh. Do not edit."""
