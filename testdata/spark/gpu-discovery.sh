#!/bin/sh
# Resource discovery script for the fake "gpu" resource of the capture Workers.
echo '{"name": "gpu", "addresses": ["0", "1"]}'
