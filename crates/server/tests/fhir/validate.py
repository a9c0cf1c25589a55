"""Validates a FHIR R4 Bundle with the fhir.resources models (R4, 4.0.1), independently of the
server's own code: the Bundle and every entry's resource must parse, and the status codes
must be from R4's required value sets. Exits non-zero with the errors.

Usage: validate.py BUNDLE.json
"""
import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element

REQUIRED_CODES = {
    "Encounter": {"planned", "arrived", "triaged", "in-progress", "onleave", "finished",
                  "cancelled", "entered-in-error", "unknown"},
    "Appointment": {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled",
                    "noshow", "entered-in-error", "checked-in", "waitlist"},
}


def main(path):
    if fhir.resources.__fhir_version__ != "4.0.1":
        print(f"fhir.resources models FHIR {fhir.resources.__fhir_version__}, not R4 (4.0.1)")
        return 2
    with open(path) as f:
        data = json.load(f)
    errors = []
    try:
        construct_fhir_element("Bundle", data)
    except Exception as e:  # the models' validation errors
        errors.append(f"Bundle: {e}")
    for n, entry in enumerate(data.get("entry", [])):
        resource = entry.get("resource", {})
        kind = resource.get("resourceType", "?")
        try:
            construct_fhir_element(kind, resource)
        except Exception as e:
            errors.append(f"entry[{n}] {kind}: {e}")
        codes = REQUIRED_CODES.get(kind)
        if codes is not None and resource.get("status") not in codes:
            errors.append(f"entry[{n}] {kind}: status {resource.get('status')!r} not in R4")
        for h in resource.get("statusHistory", []):
            if h.get("status") not in codes:
                errors.append(f"entry[{n}] {kind}: statusHistory {h.get('status')!r} not in R4")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
