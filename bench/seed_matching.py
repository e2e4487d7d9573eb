#!/usr/bin/env python3
"""Seeds a running Småjob server over its API for the candidate-list benchmark (standard library
only): one verified company with one open task in Randers, and N citizens spread over 30 × 30 km
around it, with homes, one to three transport modes, skills and Saturday availability, every
third with an active frikort. Prints the task's id.
"""
import argparse
import datetime
import http.client
import json
import random
import sys
import urllib.parse
import zoneinfo


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8080")
    p.add_argument("--token", required=True, help="a coordinator token for municipality 730")
    p.add_argument("--citizens", type=int, default=10_000)
    args = p.parse_args()

    url = urllib.parse.urlparse(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: dict) -> dict:
        conn.request(method, f"/api/v1{path}", body=json.dumps(body), headers=headers)
        res = conn.getresponse()
        data = res.read()
        if res.status >= 300:
            raise SystemExit(f"{method} {path}: {res.status} {data.decode()}")
        return json.loads(data)

    rng = random.Random(2026)
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Copenhagen")).date()
    saturday = today + datetime.timedelta(days=(5 - today.weekday()) % 7 + 7)
    company = call("POST", "/companies", {"cvr": "10150817", "name": "Benchmark ApS",
                                          "contact": {"name": "Bench"}, "verified": True})
    task = call("POST", "/tasks", {
        "company_id": company["id"], "title": "Pakkeri lørdag", "description": "Pakke varer og lager",
        "required_skills": [], "place": {"address": "Randers Øst", "lat": 56.4607, "lon": 10.0364},
        "schedule": {"kind": "single", "date": saturday.isoformat(), "start": "08:00", "end": "12:00"},
        "hours_per_shift": "4", "hourly_wage": "140.00", "positions": 1, "frikort_only": False,
        "contact": {"name": "Bench"},
    })
    call("POST", f"/tasks/{task['id']}/open", {})
    attested = {k: True for k in ("no_su_eligible_education", "no_taxable_work_income_over_threshold",
                                  "residence_9_of_last_10_years", "in_target_group")}
    modes = ["walk", "bicycle", "public_transport", "car", "moped"]
    skills = ["pakke", "lager", "bage", "rengøring", "kasse"]
    for i in range(args.citizens):
        born = datetime.date(1970, 1, 1) + datetime.timedelta(days=i)
        cpr = born.strftime("%d%m%y") + f"-{1000 + i % 3000}"
        citizen = call("POST", "/citizens", {
            "cpr": cpr, "name": f"Bench Citizen {i}",
            "home": {"lat": 56.33 + rng.random() * 0.27, "lon": 9.79 + rng.random() * 0.49},
            "transport_modes": rng.sample(modes, rng.randint(1, 3)),
            "skills": rng.sample(skills, rng.randint(1, 3)),
            "availability": {"slots": [{"weekday": "sat", "from": "07:00", "to": "15:00"}]},
            "max_travel_minutes": rng.randint(20, 80),
        })
        if i % 3 == 0:
            call("POST", f"/citizens/{citizen['id']}/frikort", {"attestations": attested})
    print(task["id"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
