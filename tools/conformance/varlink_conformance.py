#!/usr/bin/env python3
"""Checks qsmd with the reference Varlink client (PyPI's `varlink`), knowing nothing of the Swift code.

usage: varlink_conformance.py unix:/path/to/qsm.sock SCHEMAS_DIR

GetInfo lists the qsm interfaces; GetInterfaceDescription serves each .varlink file of SCHEMAS_DIR
verbatim and the reference parser accepts it; every io.qsm.Broker and io.qsm.Admin method is called;
a declared error comes back as that error; a streaming reply (ReadEvents with more) delivers every
event. Prints one line per check and exits non-zero on the first failure.
"""
import os
import sys
import uuid

import varlink


def check(condition, what):
    if not condition:
        print(f"FAIL {what}")
        sys.exit(1)
    print(f"ok   {what}")


def expect_error(call, name, what):
    try:
        call()
    except varlink.VarlinkError as error:
        check(error.error() == name, f"{what}: {error.error()} {error.parameters()}")
        return error.parameters()
    check(False, f"{what}: no error")


def main():
    address, schemas = sys.argv[1], sys.argv[2]
    client = varlink.Client.new_with_address(address)
    interfaces = client.get_interfaces()
    check({"org.varlink.service", "io.qsm.Broker", "io.qsm.Admin"} <= set(interfaces), f"GetInfo lists {interfaces}")
    for name in ("io.qsm.Broker", "io.qsm.Admin"):
        with open(os.path.join(schemas, name + ".varlink")) as file:
            expected = file.read()
        parsed = client.get_interface(name)
        check(parsed.name == name, f"{name} parses with the reference scanner ({len(parsed.members)} members)")
        with client.open("org.varlink.service") as service:
            served = service.GetInterfaceDescription(name)["description"]
        check(served == expected, f"{name} is served verbatim")

    suffix = uuid.uuid4().hex[:8]
    alice, bob, carol = f"alice{suffix}", f"bob{suffix}", f"carol{suffix}"
    with client.open("io.qsm.Broker", namespaced=True) as broker:
        check(broker.Register(alice, "alice-password").username == alice, "Register")
        broker.Register(bob, "bob-password")
        expect_error(lambda: broker.Register(alice, "another-password"), "io.qsm.Broker.UserExists", "Register twice")
        expect_error(lambda: broker.Login(alice, "wrong-password"), "io.qsm.Broker.AuthenticationFailed", "wrong password")
        session = broker.Login(alice, "alice-password").session
        check(len(session.token) == 43 and session.username == alice, "Login")
        bob_token = broker.Login(bob, "bob-password").session.token
        exchange = broker.EstablishKey(session.token, bob, 100000, 0.01, 0.0).exchange
        check(exchange.finalBits > 0 and exchange.qber < 0.05, f"EstablishKey: QBER {exchange.qber:.4f}, {exchange.finalBits} bits")
        aborted = expect_error(lambda: broker.EstablishKey(session.token, bob, 100000, 0.0, 1.0),
                               "io.qsm.Broker.EavesdroppingDetected", "EstablishKey with an eavesdropper")
        check(aborted["qberUpperBound"] > aborted["threshold"], "the abort reports the bound over the threshold")
        ids = []
        for mode in ("aes", "otp", "pqc"):
            sent = broker.Send(session.token, bob, f"hello in {mode}", mode)
            ids.append(sent.messageId)
        check(len(set(ids)) == 3, "Send in aes, otp and pqc")
        pools = broker.KeyStatus(session.token).pools
        check(len(pools) == 1 and pools[0].peer == bob and pools[0].availableBits > 0 and pools[0].keys >= 1, "KeyStatus")
        inbox = broker.Inbox(bob_token, True, 10).messages
        check({m.messageId for m in inbox} == set(ids), "Inbox lists them unread")
        body = broker.Decrypt(bob_token, ids[1]).body
        check(body == "hello in otp", "Decrypt")
        check(broker.Decrypt(session.token, ids[2]).body == "hello in pqc", "Decrypt by its sender (pqc: the sender copy)")
        broker.Register(carol, "carol-password")
        carol_token = broker.Login(carol, "carol-password").session.token
        expect_error(lambda: broker.Decrypt(carol_token, ids[0]), "io.qsm.Broker.AccessDenied", "Decrypt by someone else")
        page = broker.Inbox(bob_token, False, 2)
        check(page.total == 3 and page.more == 1 and page.cursor, "Inbox pages: total, more, cursor")
        check(len(broker.Inbox(bob_token, False, 2, page.cursor).messages) == 1, "Inbox from a cursor")
        expect_error(lambda: broker.Decrypt(bob_token, "0" * 32), "io.qsm.Broker.NoSuchMessage", "Decrypt of an unknown id")
        expect_error(lambda: broker.Send(session.token, bob, "", None), "io.qsm.Broker.InvalidInput", "an empty message")
        check(len(broker.History(bob_token, 5).entries) == 5, "History")
        counters = broker.Dashboard(bob_token).counters
        check(counters.encryptions >= 3 and counters.decryptions >= 1, "Dashboard")
        with client.open("io.qsm.Broker", namespaced=True) as watcher:
            watched = watcher.WatchDashboard(bob_token, _more=True)
            check(next(watched).counters.registrations >= 2, "WatchDashboard streams a first reply")
            broker.Send(session.token, bob, "one more", "aes")
            check(next(watched).counters.encryptions >= 4, "WatchDashboard streams the next change")
        broker.ChangePassword(session.token, "alice-password", "alice-password-2")
        expect_error(lambda: broker.Inbox(session.token, None, None), "io.qsm.Broker.InvalidSession", "the old session ends")
        new_token = broker.Login(alice, "alice-password-2").session.token
        broker.Logout(new_token)
        expect_error(lambda: broker.History(new_token, None), "io.qsm.Broker.InvalidSession", "Logout ends the session")

    with client.open("io.qsm.Admin", namespaced=True) as admin:
        check(isinstance(admin.Alerts(10).alerts, list), "Alerts")
        stats = admin.Stats()
        check(stats.head > 10, f"Stats: head {stats.head}")
        events = [reply.event for reply in admin.ReadEvents(**{"from": 1, "limit": 5}, _more=True)]
        check([e.position for e in events] == [1, 2, 3, 4, 5], "ReadEvents streams one event per reply")
        verified = admin.VerifyChain()
        check(verified.ok and verified.lastPosition == stats.head, "VerifyChain")
        rebuilt = admin.Rebuild(None, False)
        check(rebuilt.equal, "Rebuild: live and rebuilt digests are equal")
        expect_error(lambda: admin.Rebuild("nonsense", None), "io.qsm.Admin.NoSuchProjection", "Rebuild of an unknown projection")
    print("conformance: all checks passed")


if __name__ == "__main__":
    main()
