// EventLog: placeholder until its issue lands.
