#!/bin/sh
# The official image's entrypoint name, so that docker-compose.yml starts either image the
# same way. Debian's wrappers run rabbitmq-server and rabbitmqctl as the rabbitmq user.
exec "$@"
