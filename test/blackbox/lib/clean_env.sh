# Runs a black-box test (its arguments) without the caller's PUNT_*
# variables: punt serve and the CLI read them (PUNT_THREADS,
# PUNT_RETRY_SCHEDULE, PUNT_MASTER_KEY, PUNT_SERVER, ...), so a developer's
# own settings would change what the tests check. CMakeLists.txt runs every
# test/blackbox/*.test.sh through it.
for name in "${!PUNT_@}"; do unset "$name"; done
exec bash "$@"
