"""Preseed files per node role: ``generate`` writes them from a site file, ``check`` reads them back."""
