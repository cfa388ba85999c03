"""A web service with its own DNS name (specs/web.yaml): a certificate created with DNS
validation in the named hosted zone, HTTPS, and an alias record to the ALB."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Synthesized
from tests.helpers import one


def test_certificate_is_created_with_dns_validation_in_the_zone(synth: Callable[[str], Synthesized]) -> None:
    web = synth("web")
    certificate = one(web.resources("AWS::CertificateManager::Certificate"))["Properties"]
    assert certificate["DomainName"] == "shop.example.com"
    assert certificate["ValidationMethod"] == "DNS"
    assert certificate["DomainValidationOptions"] == [{"DomainName": "shop.example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"}]
    (cert_id,) = web.resources("AWS::CertificateManager::Certificate")
    https = next(v["Properties"] for v in web.resources("AWS::ElasticLoadBalancingV2::Listener").values() if v["Properties"]["Port"] == 443)
    assert https["Certificates"] == [{"CertificateArn": {"Ref": cert_id}}]


def test_the_name_points_to_the_load_balancer(synth: Callable[[str], Synthesized]) -> None:
    web = synth("web")
    record = one(web.resources("AWS::Route53::RecordSet"))["Properties"]
    (alb_id,) = web.resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert (record["Name"], record["Type"], record["HostedZoneId"]) == ("shop.example.com.", "A", "Z0123456789ABCDEFGHIJ")
    assert record["AliasTarget"]["HostedZoneId"] == {"Fn::GetAtt": [alb_id, "CanonicalHostedZoneID"]}
