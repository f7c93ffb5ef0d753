"""The deterministic demo importer: ERP tables, the bank's truth for the Open Finance
sandbox, and the ground truth."""

from sandboxes.demo_company.company import DemoCompany, generate

__all__ = ["DemoCompany", "generate"]
