// QSMTesting: placeholder until its issue lands.
