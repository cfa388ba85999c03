"""ecs-platform: a declarative spec becomes a cdk-nag-clean Amazon ECS platform."""

__version__ = "0.1.0"
