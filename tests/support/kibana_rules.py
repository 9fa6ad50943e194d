"""Realistic rules in Kibana's import form: a query, a threshold and a new terms rule."""

from __future__ import annotations

from typing import Any

MITRE_PERSISTENCE = {
    "framework": "MITRE ATT&CK",
    "tactic": {
        "id": "TA0003",
        "name": "Persistence",
        "reference": "https://attack.mitre.org/tactics/TA0003/",
    },
    "technique": [
        {
            "id": "T1098",
            "name": "Account Manipulation",
            "reference": "https://attack.mitre.org/techniques/T1098/",
            "subtechnique": [
                {
                    "id": "T1098.004",
                    "name": "SSH Authorized Keys",
                    "reference": "https://attack.mitre.org/techniques/T1098/004/",
                }
            ],
        },
        {
            "id": "T1133",
            "name": "External Remote Services",
            "reference": "https://attack.mitre.org/techniques/T1133/",
        },
    ],
}


QUERY_RULE: dict[str, Any] = {
    "rule_id": "5f1c2d7e-wg-peer-added",
    "name": "WireGuard peer added",
    "description": "A peer was added to a WireGuard interface outside a change window.",
    "risk_score": 47,
    "severity": "medium",
    "type": "query",
    "language": "kuery",
    "query": 'event.dataset: "wireguard.status" and event.action: "peer-added"',
    "index": ["logs-wireguard.*"],
    "interval": "5m",
    "from": "now-6m",
    "to": "now",
    "max_signals": 100,
    "enabled": True,
    "version": 1,
    "author": ["wgsiem"],
    "license": "Apache-2.0",
    "tags": ["WireGuard", "Persistence"],
    "references": ["https://www.wireguard.com/"],
    "false_positives": ["Planned key rotation"],
    "threat": [MITRE_PERSISTENCE],
    "required_fields": [{"name": "event.action", "type": "keyword"}],
    "related_integrations": [{"package": "wireguard", "version": "^1.0.0"}],
    "note": "## Triage\nCheck who changed the interface.",
}

THRESHOLD_RULE: dict[str, Any] = {
    "rule_id": "wg-handshake-burst",
    "name": "WireGuard handshake burst from one endpoint",
    "description": "Many handshakes from one source address in a short time.",
    "risk_score": 73,
    "severity": "high",
    "type": "threshold",
    "language": "kuery",
    "query": 'event.dataset: "wireguard.status" and event.action: "handshake"',
    "index": ["logs-wireguard.*"],
    "interval": "1m",
    "from": "now-2m",
    "threshold": {
        "field": ["source.ip"],
        "value": 20,
        "cardinality": [{"field": "wireguard.peer.public_key", "value": 3}],
    },
    "alert_suppression": {"duration": {"value": 5, "unit": "m"}},
}

NEW_TERMS_RULE: dict[str, Any] = {
    "rule_id": "wg-new-endpoint-country",
    "name": "WireGuard peer endpoint from a new country",
    "description": "A peer's endpoint address geolocates to a country not seen for it before.",
    "risk_score": 21,
    "severity": "low",
    "type": "new_terms",
    "language": "kuery",
    "query": 'event.dataset: "wireguard.status" and event.action: "endpoint-changed"',
    "index": ["logs-wireguard.*"],
    "new_terms_fields": ["wireguard.peer.public_key", "source.geo.country_iso_code"],
    "history_window_start": "now-30d",
    "from": "now-9m",
    "interval": "5m",
}
