"""Keys and clients for the broker benchmarks.

    python3 bench/keys.py generate COUNT
        COUNT keys as the dashboard generates them (kgk_, 32 random bytes, base58, CRC-32
        checksum), one per line: Keygate stores them as a SHA-256.
    python3 bench/keys.py clients BASE_URL COUNT FOLDER EMAIL ORGANIZATION
        signs up at BASE_URL, creates COUNT clients dev-00000, dev-00001, ... with generated keys
        through the API, and writes three files into FOLDER: `keygate` (client_id namespace key,
        for mqtt-load against Keygate), `mosquitto` (client_id client_id key, for mqtt-load
        against Mosquitto) and `passwords` (client_id:key, for mosquitto_passwd -U).
"""
import http.cookiejar
import json
import os
import sys
import urllib.parse
import urllib.request
import zlib

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data):
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def generated_key():
    random = os.urandom(32)
    return "kgk_" + b58(random + zlib.crc32(random).to_bytes(4, "big"))


def create_clients(base, count, folder, email, organization):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(endpoint, **form):
        body = urllib.parse.urlencode(form).encode()
        with opener.open(f"{base}/api/{endpoint}", body) as r:
            return json.load(r)

    call("account/sign_up", email=email, password="correct horse battery", organization=organization)
    with open(f"{folder}/keygate", "w") as kg, open(f"{folder}/mosquitto", "w") as mq, open(
        f"{folder}/passwords", "w"
    ) as pw:
        for i in range(count):
            key, client_id = generated_key(), f"dev-{i:05}"
            answer = call("clients/create", client_id=client_id, key=key, name=client_id, description="")
            namespace = answer["connection"]["namespace"]
            kg.write(f"{client_id} {namespace} {key}\n")
            mq.write(f"{client_id} {client_id} {key}\n")
            pw.write(f"{client_id}:{key}\n")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["generate", count]:
            for _ in range(int(count)):
                print(generated_key())
        case ["clients", base, count, folder, email, organization]:
            create_clients(base, int(count), folder, email, organization)
        case _:
            sys.exit(__doc__)
