#!/bin/sh
# The official image's entrypoint name, so that docker-compose.yml starts either image the
# same way. Debian's rabbitmq-server wrapper would keep a shell as PID 1, and PID 1 ignores
# a SIGTERM it has no handler for (docker stop would wait 10 s, then kill the broker): the
# server runs here as the rabbitmq user in this process's place, and stops gracefully.
# rabbitmqctl and rabbitmq-diagnostics keep Debian's wrappers.
if [ "${1:-}" = rabbitmq-server ] && [ "$(id -u)" = 0 ]; then
  shift
  cd /var/lib/rabbitmq
  export HOME=/var/lib/rabbitmq
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
exec "$@"
