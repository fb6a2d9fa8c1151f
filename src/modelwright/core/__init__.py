"""The service kernel: names, actions, the calling context and the platform object.

Everything a service function needs to run one operation as one transaction — who is
calling, what they may do, the database session and the audit trail — lives here.
"""
