#!/bin/sh
# Kea's run_script hook on the ISP (Kea 2.2 delegates prefixes but routes
# none of them): route each delegated prefix to the router it was delegated
# to, and remove the route when the delegation ends. $1 is the hook point;
# the rest comes in the environment.

route() {  # route add|del TYPE PREFIX LEN
  [ "$2" = IA_PD ] || return 0
  if [ "$1" = add ]; then
    ip -6 route replace "$3/$4" via "$QUERY6_REMOTE_ADDR" dev "$QUERY6_IFACE_NAME" proto dhcp
  else
    ip -6 route del "$3/$4" proto dhcp 2>/dev/null
  fi
  echo "$(date +%T) $1 $3/$4 via $QUERY6_REMOTE_ADDR" >> /var/log/pd-route.log
}

case "$1" in
  leases6_committed)
    i=0
    while [ "$i" -lt "${DELETED_LEASES6_SIZE:-0}" ]; do
      eval route del "\$DELETED_LEASES6_AT${i}_TYPE" "\$DELETED_LEASES6_AT${i}_ADDRESS" \
        "\$DELETED_LEASES6_AT${i}_PREFIX_LEN"
      i=$((i + 1))
    done
    i=0
    while [ "$i" -lt "${LEASES6_SIZE:-0}" ]; do
      eval route add "\$LEASES6_AT${i}_TYPE" "\$LEASES6_AT${i}_ADDRESS" "\$LEASES6_AT${i}_PREFIX_LEN"
      i=$((i + 1))
    done ;;
  lease6_renew|lease6_rebind)
    route add "$LEASE6_TYPE" "$LEASE6_ADDRESS" "$LEASE6_PREFIX_LEN" ;;
  lease6_release|lease6_expire|lease6_decline)
    route del "$LEASE6_TYPE" "$LEASE6_ADDRESS" "$LEASE6_PREFIX_LEN" ;;
esac
exit 0
