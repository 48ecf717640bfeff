# Exercise 5's reference solution, run in the exercise's copy: one rotation of the
# key file the users service reads (USERS_SIGNING_KEYS_PATH, by default
# .state/signing-keys.json), with the service's own command. `--dev` marks the new key
# a development key, as the one it replaces: this is a dev stack's key file.
set -eu
"${PYTHON:-python3}" -m services.users.rotate_keys --dev
