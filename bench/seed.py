#!/usr/bin/env python3
"""Seeds a running Småjob server over its API for the HTTP benchmarks (standard library only).

Creates one company and N citizens, each with an active frikort valid from 1 January of this
year and an employment from the same day. Prints "citizen-id employment-id", one citizen a line.
Dates are Copenhagen dates, as the server counts them.
"""
import argparse
import datetime
import http.client
import json
import sys
import urllib.parse
import zoneinfo


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8080")
    p.add_argument("--token", required=True, help="a coordinator token for municipality 730")
    p.add_argument("--citizens", type=int, default=1)
    p.add_argument("--payouts", default="0",
                   help="payouts to register per citizen; a comma-separated list gives the i-th citizen the i-th "
                        "count (the last count for the rest), e.g. 10,1000")
    args = p.parse_args()

    url = urllib.parse.urlparse(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}

    def send(method: str, path: str, body: dict) -> tuple[int, bytes]:
        conn.request(method, f"/api/v1{path}", body=json.dumps(body), headers=headers)
        res = conn.getresponse()
        return res.status, res.read()

    def call(method: str, path: str, body: dict) -> dict:
        status, data = send(method, path, body)
        if status >= 300:
            raise SystemExit(f"{method} {path}: {status} {data.decode()}")
        return json.loads(data)

    # Servers before the CHANGELOG's employments change named a coordinator's employee as
    # `citizen: {id}`; later ones take `citizen_id`. Seeding both lets one script compare them.
    legacy_citizen_ref = False

    def register_employment(citizen_id: str, body: dict) -> dict:
        nonlocal legacy_citizen_ref
        if not legacy_citizen_ref:
            status, data = send("POST", "/employments", {"citizen_id": citizen_id, **body})
            if status < 300:
                return json.loads(data)
            if status not in (400, 422):
                raise SystemExit(f"POST /employments: {status} {data.decode()}")
            legacy_citizen_ref = True
        return call("POST", "/employments", {"citizen": {"id": citizen_id}, **body})

    today = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Copenhagen")).date()
    jan1 = today.replace(month=1, day=1).isoformat()
    company = call("POST", "/companies", {"cvr": "10150817", "name": "Benchmark ApS", "contact": {"name": "Bench"}, "verified": True})
    attested = {k: True for k in ("no_su_eligible_education", "no_taxable_work_income_over_threshold",
                                  "residence_9_of_last_10_years", "in_target_group")}
    counts = [int(c) for c in args.payouts.split(",")]
    for i in range(args.citizens):
        born = datetime.date(1970, 1, 1) + datetime.timedelta(days=i)
        cpr = born.strftime("%d%m%y") + f"-{1000 + i % 3000}"
        citizen = call("POST", "/citizens", {"cpr": cpr, "name": f"Bench Citizen {i}"})
        call("POST", f"/citizens/{citizen['id']}/frikort", {"valid_from": jan1, "attestations": attested})
        employment = register_employment(citizen["id"], {
            "company_id": company["id"], "start_date": jan1, "contact": {"name": "Bench"},
        })
        for _ in range(counts[min(i, len(counts) - 1)]):
            call("POST", f"/employments/{employment['id']}/payouts", {
                "payment_date": today.isoformat(), "worked_from": jan1, "worked_to": jan1,
                "wage": "100.00", "holiday_pay": "0.00",
            })
        print(f"{citizen['id']} {employment['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
