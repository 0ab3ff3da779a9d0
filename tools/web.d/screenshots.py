"""Takes a PNG of each qsm-web screen (tools/screenshot-web): argv[1] is qsm-web's URL, argv[2] the folder."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from browser_test import browser, click_and_wait, fill  # noqa: E402  (the same driver set-up and form filling)
import browser_test  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

BASE = sys.argv[1].rstrip("/")
OUT = sys.argv[2]
browser_test.BASE = BASE


def shot(driver, name):
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(700, min(height + 40, 2200)))
    path = os.path.join(OUT, f"{name}.png")
    driver.save_screenshot(path)
    print(f"tools/screenshot-web: wrote {path}", flush=True)


def main():
    alice, bob = browser(), browser()
    try:
        alice.get(BASE + "/login")
        shot(alice, "login")
        alice.get(BASE + "/register")
        shot(alice, "register")
        for driver, user in ((alice, "alice"), (bob, "bob")):
            fill(driver, "/register", {"username": user, "password": f"{user}-password-1", "confirm": f"{user}-password-1"})
            fill(driver, None, {"username": user, "password": f"{user}-password-1"})
        fill(alice, "/keys", {"peer": "bob", "qubits": "200000", "noise": "0.02"})
        shot(alice, "keys")
        fill(alice, "/keys", {"peer": "bob", "qubits": "60000", "eavesdropper": "1"})
        for mode, text in (("otp", "Meet at the quantum cafe at noon."), ("aes", "The key rotated fine."),
                           ("pqc", "Post-quantum hello.")):
            fill(alice, "/send", {"to": "bob", "body": text, "mode": mode})
        alice.get(BASE + "/send")
        alice.find_element(By.NAME, "to").send_keys("bob")
        alice.find_element(By.NAME, "body").send_keys("Draft: see you there.")
        shot(alice, "send")
        bob.get(BASE + "/inbox")
        links = [a.get_attribute("href") for a in bob.find_elements(By.CSS_SELECTOR, "table.inbox a")]
        bob.get(links[-1])
        click_and_wait(bob, "main form button")
        bob.get(BASE + "/inbox")
        shot(bob, "inbox")
        bob.get(links[-1])
        click_and_wait(bob, "main form button")
        shot(bob, "message")
        bob.get(BASE + "/history")
        shot(bob, "history")
        alice.get(BASE + "/dashboard")
        shot(alice, "dashboard")
    finally:
        alice.quit()
        bob.quit()


if __name__ == "__main__":
    main()
