"""The center's web console: server-rendered pages over the gateway's contract.

``hedui console serve`` signs people in (password + TOTP) and calls the gateway as them
under the console's own certificate; every rule stays in the gateway.
"""
