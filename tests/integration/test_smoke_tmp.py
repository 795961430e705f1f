import json
from tests.conftest import load_event

def test_smoke(function, context, stub):
    ingest = function("ingest")
    print(ingest.lambda_handler(load_event("ingest-msk.json"), context))
    api = function("api")
    for name in ["api-list-notifications.json","api-unread-count.json","api-put-preferences.json","api-get-preferences.json","api-register-device.json","api-list-devices.json","api-openapi.json","api-mark-all-read.json", "api-mark-read.json"]:
        r = api.lambda_handler(load_event(name), context)
        print(name, r["statusCode"], r["body"][:400])
    f = function("fanout")
    print(f.lambda_handler(load_event("fanout-stream.json"), context))
